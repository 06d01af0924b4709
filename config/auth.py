"""Logging in: Django's password check, and no permissions of its own."""

from django.contrib.auth.backends import ModelBackend


class LoginBackend(ModelBackend):
    """Authenticates by username and password; grants nothing.

    What a login may do is the permission matrix (``config/policy.py``) alone, so the
    permission rows Django keeps per user and per group cannot widen it unnoticed.
    """

    def get_user_permissions(self, user_obj, obj=None):
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        return set()
