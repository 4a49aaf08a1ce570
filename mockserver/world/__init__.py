"""The one canonical TikTok world every vendor renders: accounts, videos, music, hashtags."""

from mockserver.world.model import Account, Counts, Hashtag, Music, Profile, Video
from mockserver.world.world import World

__all__ = ["Account", "Counts", "Hashtag", "Music", "Profile", "Video", "World"]
