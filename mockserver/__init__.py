"""tiktok mockserver: a faithful local mock of three TikTok-data REST APIs."""

__version__ = "0.1.0"
