"""Errors a user can act on: the CLI prints their message on one line and exits non-zero."""


class TabshipError(Exception):
    """Base for every error whose message is meant for the user as it stands."""


class UseCaseError(TabshipError):
    """A use-case declaration is missing or invalid."""


class SourceError(TabshipError):
    """Source data cannot be read (missing, empty, wrong format)."""


class ContractError(TabshipError):
    """Source data breaks the declared contract beyond what quarantine tolerates."""


class StoreError(TabshipError):
    """A store cannot give what was asked (unknown version, unknown entity)."""


class SettingsError(TabshipError):
    """The environment holds a setting that does not exist (a misspelling, usually)."""
