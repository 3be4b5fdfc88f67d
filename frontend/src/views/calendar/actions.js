// What the calendar writes: changes to its records (offline-first, through app.actions like every
// view) and the few server calls it needs (feeds, history). Ids: ULIDs for events and reminders,
// derived ids for exceptions and RSVPs (two devices meet in one record).

import { ulid } from '../../lib/ulid.js';
import { derivedId } from '../../sync/registry.js';
import { split } from '../../lib/recurrence.js';

/** @param {any} app @param {{collection: string, id: string, fields: Record<string, any>}[]} changes */
const write = (app, changes) => app.actions.writeChanges(changes);

/** Create an event with its reminders and invitations; returns its id. */
export async function createEvent(app, fields, { reminders = [], attendees = [] } = {}) {
  const me = app.queries.me.value;
  const id = ulid();
  const changes = [{ collection: 'events', id, fields }];
  for (const minutes of reminders) changes.push({ collection: 'reminders', id: ulid(), fields: { user: me, event: id, minutes } });
  for (const user of attendees) changes.push(rsvp(id, fields.calendar, user, user === me ? 'accepted' : 'none', true));
  await write(app, changes);
  return id;
}

function rsvp(event, calendar, user, status, invited) {
  const fields = { event, calendar, user, status, invited };
  return { collection: 'rsvps', id: derivedId('rsvps', fields), fields };
}

/** Change an event (all of a series): only the fields that differ. */
export async function updateEvent(app, id, fields, { reminders = null, attendees = null } = {}) {
  const held = app.queries.record('events', id)?.fields ?? {};
  const changed = Object.fromEntries(Object.entries(fields).filter(([k, v]) => held[k] !== v && k !== 'calendar'));
  const changes = Object.keys(changed).length ? [{ collection: 'events', id, fields: changed }] : [];
  if (reminders) changes.push(...reminderChanges(app, id, reminders));
  if (attendees) {
    const known = invitees(app, id);
    for (const user of attendees) if (!known.has(user)) changes.push(rsvp(id, held.calendar, user, 'none', true));
    for (const user of known.keys()) {
      if (!attendees.includes(user)) changes.push({ collection: 'rsvps', id: derivedId('rsvps', { event: id, user }), fields: { invited: false } });
    }
  }
  if (changes.length) await write(app, changes);
}

/** My reminders of an event, made to be exactly `minutes` (added, kept, or deleted). */
function reminderChanges(app, event, minutes) {
  const mine = myReminders(app, event);
  const changes = [];
  const wanted = [...new Set(minutes)];
  for (const [id, fields] of mine) {
    const at = wanted.indexOf(fields.minutes);
    if (at >= 0) wanted.splice(at, 1);
    else changes.push({ collection: 'reminders', id, fields: { deleted: true } });
  }
  const me = app.queries.me.value;
  for (const m of wanted) changes.push({ collection: 'reminders', id: ulid(), fields: { user: me, event, minutes: m } });
  return changes;
}

/** @returns {[string, Record<string, any>][]} */
export function myReminders(app, event) {
  const out = [];
  for (const [id, r] of app.queries.collection('reminders').value.entries()) {
    if (r.fields.event === event && !r.fields.deleted) out.push([id, r.fields]);
  }
  return out;
}

/** Invited people and their RSVP records. @returns {Map<string, Record<string, any>>} */
export function invitees(app, event) {
  const out = new Map();
  for (const [, r] of app.queries.collection('rsvps').value.entries()) {
    if (r.fields.event === event && r.fields.invited !== false) out.set(r.fields.user, r.fields);
  }
  return out;
}

export async function answer(app, event, status) {
  const me = app.queries.me.value;
  const held = app.queries.record('events', event)?.fields;
  if (!held) return;
  const id = derivedId('rsvps', { event, user: me });
  const fields = app.queries.record('rsvps', id) ? { status } : { event, calendar: held.calendar, user: me, status };
  await write(app, [{ collection: 'rsvps', id, fields }]);
}

/** Move or change one occurrence: an exception record (derived id: event + original start). */
export async function changeOccurrence(app, event, recurrenceId, fields) {
  const held = app.queries.record('events', event)?.fields;
  const base = { event, calendar: held.calendar, recurrence_id: recurrenceId };
  const id = derivedId('occurrences', base);
  const exists = app.queries.record('occurrences', id);
  await write(app, [{ collection: 'occurrences', id, fields: exists ? fields : { ...base, ...fields } }]);
}

/** "This and following": end the series before `recurrenceId`, start a new one there with the
 * same people and my reminders. */
export async function splitSeries(app, event, recurrenceId, fields) {
  const held = app.queries.record('events', event)?.fields;
  const [oldRule, newRule] = split(held, recurrenceId);
  const id = ulid();
  const { uid, split_from: _, created_by: __, deleted: ___, ...rest } = held;
  const fresh = { ...rest, ...fields, rrule: newRule, split_from: event };
  const changes = [{ collection: 'events', id: event, fields: { rrule: oldRule } }, { collection: 'events', id, fields: fresh }];
  for (const [, r] of myReminders(app, event)) changes.push({ collection: 'reminders', id: ulid(), fields: { user: r.user, event: id, minutes: r.minutes } });
  // The people come along, invited afresh (only an attendee answers for themself: mine is kept).
  const me = app.queries.me.value;
  for (const [user, r] of invitees(app, event)) {
    changes.push(rsvp(id, held.calendar, user, user === me ? r.status || 'none' : 'none', true));
  }
  await write(app, changes);
  return id;
}

export async function deleteEvent(app, event) {
  await write(app, [{ collection: 'events', id: event, fields: { deleted: true } }]);
}

/** Hide or show a calendar in my combined view (my private calendar_prefs record). */
export async function setHidden(app, calendar, hidden) {
  const me = app.queries.me.value;
  const base = { user: me, calendar };
  const id = derivedId('calendar_prefs', base);
  const exists = app.queries.record('calendar_prefs', id);
  await write(app, [{ collection: 'calendar_prefs', id, fields: exists ? { hidden } : { ...base, hidden } }]);
}

/** Post the invitation card in the event's channel. */
export async function postInvitation(app, channel, text) {
  await app.actions.sendMessage(channel, text);
}
