"""Standards profiles: the policy's numbers as data files, loaded and validated.

A profile is a TOML file.  linli ships ``chongqing-2019`` (the default) in
``linli/standards/profiles``; users pass a name of a shipped profile or a path to their own.
Code asks the profile for every policy number (walking speed, circles, floor areas, …).
"""

from linli.standards.profile import (
    DEFAULT_PROFILE,
    Profile,
    WalkingProfile,
    available_profiles,
    load_profile,
)

__all__ = ["DEFAULT_PROFILE", "Profile", "WalkingProfile", "available_profiles", "load_profile"]
