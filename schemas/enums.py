"""The closed vocabularies of SPEC §2–4, each in one place; forms, API and database read them here."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    reporter = "reporter"
    manager = "manager"
    admin = "admin"
    # A user from a partner organisation (SPEC §2): not staff, outside the staff ranks; see
    # api/auth/identity.py for what that means for every route.
    partner = "partner"


class Waste(StrEnum):
    defects = "defects"
    overproduction = "overproduction"
    waiting = "waiting"
    non_utilised_talent = "non_utilised_talent"
    transport = "transport"
    inventory = "inventory"
    motion = "motion"
    extra_processing = "extra_processing"
    inequity = "inequity"


class Benefit(StrEnum):
    safety = "safety"
    patient_experience = "patient_experience"
    staff_experience = "staff_experience"
    efficiency = "efficiency"
    equity = "equity"
    cost = "cost"


class IdeaStatus(StrEnum):
    submitted = "submitted"
    under_review = "under_review"
    accepted = "accepted"
    testing = "testing"
    implemented = "implemented"
    shared = "shared"
    declined = "declined"
    duplicate = "duplicate"


class JourneyType(StrEnum):
    admission = "admission"
    discharge = "discharge"
    transfer = "transfer"
    outpatient = "outpatient"
    other = "other"


class Category(StrEnum):
    handover_delay = "handover_delay"
    patient_not_ready = "patient_not_ready"
    missing_paperwork = "missing_paperwork"
    medication_issue = "medication_issue"
    wrong_or_missing_address = "wrong_or_missing_address"
    equipment_or_bariatric = "equipment_or_bariatric"
    communication_breakdown = "communication_breakdown"
    access_or_parking = "access_or_parking"
    safeguarding_concern = "safeguarding_concern"
    infection_control = "infection_control"
    other = "other"


class Harm(StrEnum):
    none = "none"
    low = "low"
    moderate = "moderate"
    severe = "severe"
    death = "death"


HARM_NEEDING_FORMAL_REPORT = frozenset({Harm.moderate, Harm.severe, Harm.death})


class HandoverStatus(StrEnum):
    new = "new"
    reviewed = "reviewed"
    raised_with_partner = "raised_with_partner"
    resolved = "resolved"


class NoteType(StrEnum):
    """A handover that went wrong, or one that went well (thanks for the partner, SPEC §3.2)."""

    concern = "concern"
    good_practice = "good_practice"


class GoodPractice(StrEnum):
    """What went well at a handover (SPEC §3.2)."""

    patient_ready = "patient_ready"
    paperwork_complete = "paperwork_complete"
    medication_ready = "medication_ready"
    clear_communication = "clear_communication"
    quick_handover = "quick_handover"
    kind_and_respectful = "kind_and_respectful"
    other = "other"


class PartnerKind(StrEnum):
    hospital = "hospital"
    ward = "ward"
    clinic = "clinic"
    care_home = "care_home"
    other = "other"


# What people read. Kept beside the values so a new value cannot ship without its words.
LABELS: dict[str, str] = {
    "defects": "Defects (errors, rework)",
    "overproduction": "Overproduction (doing more than needed)",
    "waiting": "Waiting",
    "non_utilised_talent": "Non-utilised talent",
    "transport": "Transport (moving things)",
    "inventory": "Inventory (excess stock)",
    "motion": "Motion (moving people)",
    "extra_processing": "Extra processing",
    "inequity": "Inequity",
    "safety": "Safety",
    "patient_experience": "Patient experience",
    "staff_experience": "Staff experience",
    "efficiency": "Efficiency",
    "equity": "Equity",
    "cost": "Cost",
    "submitted": "Submitted",
    "under_review": "Under review",
    "accepted": "Accepted",
    "testing": "Testing",
    "implemented": "Implemented",
    "shared": "Shared",
    "declined": "Declined",
    "duplicate": "Duplicate",
    "admission": "Admission",
    "discharge": "Discharge",
    "transfer": "Transfer",
    "outpatient": "Outpatient",
    "handover_delay": "Handover delay",
    "patient_not_ready": "Patient not ready",
    "missing_paperwork": "Missing paperwork",
    "medication_issue": "Medication issue",
    "wrong_or_missing_address": "Wrong or missing address",
    "equipment_or_bariatric": "Equipment or bariatric",
    "communication_breakdown": "Communication breakdown",
    "access_or_parking": "Access or parking",
    "safeguarding_concern": "Safeguarding concern",
    "infection_control": "Infection control",
    "other": "Other",
    "none": "No harm",
    "low": "Low harm",
    "moderate": "Moderate harm",
    "severe": "Severe harm",
    "death": "Death",
    "new": "New",
    "reviewed": "Reviewed",
    "raised_with_partner": "Raised with partner",
    "resolved": "Resolved",
    "reporter": "Reporter",
    "manager": "Manager",
    "admin": "Admin",
    "partner": "Partner organisation user",
    "concern": "Concern",
    "good_practice": "Good practice",
    "patient_ready": "Patient ready on time",
    "paperwork_complete": "Paperwork complete",
    "medication_ready": "Medication ready",
    "clear_communication": "Clear communication",
    "quick_handover": "Quick handover",
    "kind_and_respectful": "Kind and respectful",
    "hospital": "Hospital",
    "ward": "Ward",
    "clinic": "Clinic",
    "care_home": "Care home",
}


def label(value: str) -> str:
    return LABELS.get(value, value.replace("_", " ").capitalize())
