"""Size parameters per scale: how many partners, customers and sessions the demo platform has.

`medium` follows the magnitudes of seed 003's executive summary (about 1,250 partners split
like its channel breakdown); `small` is a fast fixture for tests, `large` a load test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SCALES: tuple[str, ...] = ("small", "medium", "large")


@dataclass(frozen=True, slots=True)
class Scale:
    name: str
    # Partners per kind (integration partners come from the integration catalog, up to 14).
    partners: dict[str, int] = field(default_factory=dict)
    integration_partners: int = 14
    direct_signups: int = 0  # subscriber sign-ups (trials) over the 18 months
    consumers: int = 0  # B2C photo-app users over the 18 months
    referral_volume: float = 1.0  # multiplier on affiliate / referral partner productivity
    client_rate: float = 1.0  # multiplier on new clients per reseller / white-label / business
    occasion_rate: float = 1.0  # multiplier on occasions per business partner
    session_rate: float = 1.0  # multiplier on chat sessions per partner experience
    platform_sessions: int = 0  # chat sessions per month on platform experiences (at the end)
    health_every: int = 3_600  # seconds between platform health checks
    errors_per_day: float = 3.0
    fraud_affiliates: int = 1  # affiliates with a burst of sign-ups from one IP


_SCALES = {
    "small": Scale(
        name="small",
        partners={"affiliate": 12, "referral": 5, "reseller": 3, "white_label": 2, "business": 5},
        integration_partners=3,
        direct_signups=300,
        consumers=160,
        referral_volume=1.0,
        occasion_rate=0.6,
        session_rate=0.7,
        platform_sessions=40,
        health_every=6 * 3_600,
        errors_per_day=0.5,
        fraud_affiliates=0,
    ),
    "medium": Scale(
        name="medium",
        partners={
            "affiliate": 800,
            "referral": 295,
            "reseller": 63,
            "white_label": 20,
            "business": 58,
        },
        direct_signups=14_000,
        consumers=9_000,
        platform_sessions=700,
    ),
    "large": Scale(
        name="large",
        partners={
            "affiliate": 2_600,
            "referral": 950,
            "reseller": 210,
            "white_label": 65,
            "business": 190,
        },
        direct_signups=100_000,
        consumers=70_000,
        platform_sessions=10_000,
        health_every=600,
        errors_per_day=12.0,
        fraud_affiliates=3,
    ),
}


def get_scale(name: str) -> Scale:
    """The parameters of a scale; unknown names raise ValueError listing the allowed ones."""
    try:
        return _SCALES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown demo scale {name!r}: expected one of {', '.join(SCALES)}"
        ) from None
