"""Archives for auditors: consistent, immutable exports of the change log and what it built.

- ``snapshot``  read the live store in one read transaction (a consistent point in time);
- ``model``     derive people, channels, membership history, messages and their versions (pure);
- ``export``    write the immutable SQLite archive with sqlite-utils (FTS, foreign keys, views);
- ``formats``   compliance shapes: one CSV row per message event, and the Slack export layout;
- ``verify``    recompute the hash chain of an archive or of the live store;
- ``serve``     open an archive in Datasette, for auditors and admins signed in to TeamTalk.

docs/archive.md is the guide.
"""
