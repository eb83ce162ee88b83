"""The format of a service definition (one JSON file per service under definitions/): who may
file it, what is asked, the documents and fees, and its steps as a state machine."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from backend.constants import DocumentType, StaffRole
from backend.services.effects import Effect

# Codes are stored: a service's in service_request.kind and a step's in .status (String(30)),
# an action's in request_event.action (String(40)).
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=30)]
SUBSCRIBER = "subscriber"
SYSTEM = "system"
# Who acts at a step: a staff role, the subscriber (the step waits on them), or the desk
# itself in the same transaction as the step before (a result announced once decided).
Actor = StaffRole | Literal["subscriber", "system"]
# Who may file (backend.services.filers says what each proves): whoever holds the registered
# mobile, the property's owner, the sole user of the connection (seed 001).
Filer = Literal["registered_mobile", "owner", "sole_user"]
# A paper an action issues to the subscriber as a PDF (backend.services.documents).
Paper = Literal["clearance_certificate"]


class Strict(BaseModel):
    """A part of a definition: a field it does not know is refused, never ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Name(Strict):
    fa: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Question(Strict):
    """Something the subscriber is asked when filing; its prompt is the catalog's
    `service.<service>.ask.<key>`, a choice's labels `service.<service>.<key>.<option>`."""

    key: Code
    type: Literal[
        "choice",
        "text",
        "amount",
        "count",
        "date",
        "jalali_range",
        "bill_id",
        "national_id",
        "mobile",
    ]
    options: tuple[Code, ...] = ()  # a choice's, and only a choice's
    min_length: int | None = Field(default=None, ge=1)  # a text's
    max_length: int | None = Field(default=None, ge=1)
    min: int | None = Field(default=None, ge=0)  # an amount's or a count's
    max: int | None = Field(default=None, ge=1)
    # A value the desk already holds, taken as the answer without asking (the bill ID of a
    # request filed on a bill, the disputed bill chosen from the subscription's latest).
    from_context: bool = False


class Document(Strict):
    type: DocumentType
    required: bool
    # Any one of these types satisfies it: a deed or a lease proves the property alike.
    or_types: tuple[DocumentType, ...] = ()


class Fee(Strict):
    """An amount the subscriber pays: set by a role at a step, by the action `set_by_action`.
    With `paid_by_action`, an action of the step the fee leads to, it can be paid online: the
    subscriber gets the payment link, and the payment takes that action."""

    key: Code
    set_by: StaffRole
    at_step: Code
    set_by_action: Code
    paid_by_action: Code | None = None


class Action(Strict):
    """A way out of a step: the event recorded, the step it leads to, and who takes it."""

    code: Code
    to: Code
    by: Actor | None = None  # the step's role when not given
    # What the actor enters with it (a staff command's argument, the subscriber's reply).
    value: Literal["amount", "text", "choice", "reading"] | None = None
    options: tuple[Code, ...] = ()  # a choice value's
    notice: Code | None = None  # the subscriber's notice; NoticeKind for the built services
    button: bool = False  # offered to the subscriber as a button at this step
    effect: Effect | None = None  # a change to the subscriber's records (services.effects)
    # The paper it issues, numbered by the text the actor enters (the value "text").
    document: Paper | None = None


class Step(Strict):
    """A status a request can be in. A step that is not final names who acts and, when staff
    do, its target in working days: a number, a Settings field (the operator's), or, with
    keeps_deadline, the previous step's target still running."""

    code: Code
    final: bool = False
    role: Actor | None = None
    working_days: int | None = Field(default=None, gt=0)
    working_days_setting: str | None = None
    keeps_deadline: bool = False
    # A staff step whose end has no target of its own (the closing of an announced result).
    untimed: bool = False
    actions: tuple[Action, ...] = ()


class ServiceDefinition(Strict):
    code: Code
    name: Name
    filers: tuple[Filer, ...] = Field(min_length=1)
    # What the filer proves before filing: a code sent to the registered mobile (or, for one
    # who lost that number, a pishkhan counter's confirmation at a later step), or nothing
    # beyond the documents asked for.
    ownership_proof: Literal["registered_mobile", "registered_mobile_or_counter", "none"] = "none"
    questions: tuple[Question, ...] = ()
    documents: tuple[Document, ...] = ()
    fees: tuple[Fee, ...] = ()
    first_step: Code
    steps: tuple[Step, ...] = Field(min_length=2)
