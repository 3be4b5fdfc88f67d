"""The calendar: recurrence, iCalendar in and out, the feed tokens and the reminder schedule."""
