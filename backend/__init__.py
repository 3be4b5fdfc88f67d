"""TeamTalk's server: a Litestar shell around the sync core, storage, accounts and the CLI."""
