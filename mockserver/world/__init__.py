"""The one canonical TikTok world every vendor renders: accounts, videos, music, hashtags."""

from mockserver.world.model import Account, Hashtag, Music, Video
from mockserver.world.world import World

__all__ = ["Account", "Hashtag", "Music", "Video", "World"]
