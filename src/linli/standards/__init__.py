"""Standards profiles: the policy's numbers as data files, loaded and validated.

A profile is a TOML file.  linli ships ``chongqing-2019`` (the default: Chongqing's street
centres and community homes) and ``gb50180-2018`` (the national 15/10/5-minute life circles
and the residential block) in ``linli/standards/profiles``; users pass a name of a shipped
profile or a path to their own.  Code asks the profile for every policy number (walking
speed, circles, facility types, floor areas, …); see :mod:`linli.standards.schema`.
"""

from linli.standards.profile import DEFAULT_PROFILE, available_profiles, load_profile
from linli.standards.schema import (
    BuiltAreaRule,
    ColocationCategory,
    ColocationRule,
    CoverageTarget,
    FacilityType,
    NewHousingRule,
    PopulationDefaults,
    Profile,
    Tier,
    UsableRules,
    WalkingProfile,
    normalise_name,
)

__all__ = [
    "DEFAULT_PROFILE",
    "BuiltAreaRule",
    "ColocationCategory",
    "ColocationRule",
    "CoverageTarget",
    "FacilityType",
    "NewHousingRule",
    "PopulationDefaults",
    "Profile",
    "Tier",
    "UsableRules",
    "WalkingProfile",
    "available_profiles",
    "load_profile",
    "normalise_name",
]
