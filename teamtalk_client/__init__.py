"""The Python TeamTalk client, a package of its own: bots, benchmarks and tests use it; the server never does."""

from teamtalk_client.client import TeamTalkClient

__all__ = ["TeamTalkClient"]
