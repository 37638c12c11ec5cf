"""The readiness questionnaire: 20 statements in six domains, answered 1–5, and the five stages of
the continuum. Written for Frontline; the ids are stable (answers are stored under them), the words
may be improved."""

from __future__ import annotations

from dataclasses import dataclass

SCALE: dict[int, str] = {
    1: "Strongly disagree",
    2: "Disagree",
    3: "Neither agree nor disagree",
    4: "Agree",
    5: "Strongly agree",
}

DOMAINS: dict[str, str] = {
    "leadership": "Leadership and the management system",
    "engagement": "Staff engagement and empowerment",
    "capability": "Improvement capability and training",
    "measurement": "Measurement and use of data",
    "involvement": "Patient and partner involvement",
    "equity": "Equity",
}


@dataclass(frozen=True)
class Question:
    id: str
    domain: str
    text: str


QUESTIONS: tuple[Question, ...] = (
    Question("lead_1", "leadership", "Our leaders come to where the work happens to see problems for themselves."),
    Question("lead_2", "leadership", "Improving how we work is part of running this team every day, not a side project."),
    Question("lead_3", "leadership", "I can see how our team's priorities connect to the trust's strategic aims."),
    Question("lead_4", "leadership", "When something goes wrong, leaders ask what got in the way, not who is to blame."),
    Question("engage_1", "engagement", "I can raise an idea for improvement and know it will be heard."),
    Question("engage_2", "engagement", "People in this team are trusted to test small changes in their own work."),
    Question("engage_3", "engagement", "We hear back about what happened to the ideas we raised."),
    Question("engage_4", "engagement", "We meet often, for example at a huddle, to talk about problems and improvements."),
    Question("capability_1", "capability", "I know a simple way to test a change, such as a Plan-Do-Study-Act cycle."),
    Question("capability_2", "capability", "I have had improvement training that I use in my job."),
    Question("capability_3", "capability", "When we need help with an improvement, we know who to ask."),
    Question("measure_1", "measurement", "We collect data to see whether a change made things better."),
    Question("measure_2", "measurement", "We look at our data over time, in run charts, rather than comparing two numbers."),
    Question("measure_3", "measurement", "Data about our service is easy for our team to get and understand."),
    Question("involve_1", "involvement", "Patients, carers or their representatives help us decide what to improve."),
    Question("involve_2", "involvement", "We improve things together with the organisations we hand patients over to."),
    Question("involve_3", "involvement", "We ask patients how a change has worked for them."),
    Question("equity_1", "equity", "Before we make a change, we stop to ask who could be left out by it."),
    Question("equity_2", "equity", "We check whether different groups of patients get different results from us."),
    Question("equity_3", "equity", "Staff from every background have a fair chance to lead improvement here."),
)  # fmt: skip

QUESTION_IDS = frozenset(q.id for q in QUESTIONS)


@dataclass(frozen=True)
class Stage:
    number: int
    name: str
    description: str


STAGES: tuple[Stage, ...] = (
    Stage(1, "Starting out", "Improvement happens by chance, in pockets, when someone has the energy."),
    Stage(2, "Getting ready", "Some people are trained and ideas are raised, but there is not yet a system."),
    Stage(3, "Building", "The team tests changes and measures them, and leaders make time for it."),
    Stage(4, "Embedding", "Improvement is how the team works every day, with data and the patient's view."),
    Stage(5, "Sustaining and spreading", "Improvement is the culture, fair to everyone, and the team's learning spreads to others."),
)  # fmt: skip


# The overall mean (1–5) cut into five equal bands: below 1.8 is stage 1, 4.2 and up is stage 5.
STAGE_FLOORS = (1.8, 2.6, 3.4, 4.2)


def stage_for(mean_score: float) -> int:
    """The stage of an overall mean, compared as shown (two decimals): 3.4 is stage 4, 3.39 stage 3."""
    shown = round(mean_score, 2)
    return 1 + sum(shown >= floor for floor in STAGE_FLOORS)
