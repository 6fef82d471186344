"""Domain errors: what a caller (view, CLI, job) can act on. They carry codes, not sentences.

A refusal is a code with parameters: ``FieldCode`` (engine: generic value checks) or ``ErrorCode``
(below: the services' own). web/messages.py gives every code its words, in Chinese and English.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from engine.errors import ConcurrentUpdate, FieldCode, FieldError, Problem

__all__ = ["ConcurrentUpdate", "DeployRejected", "DomainError", "ErrorCode", "FieldCode",
           "FieldError", "IdempotencyConflict", "InvalidInput", "NotFound", "NotPermitted",
           "ProcessIncident", "TaskNoLongerAvailable"]


class ErrorCode(StrEnum):
    """Why a service refused; the parameters a code's words use are named in its comment."""

    # anything
    NOT_FOUND = "not_found"
    NOT_PERMITTED = "not_permitted"
    PERSONAL_DATA_IN_TEXT = "personal_data_in_text"  # kind (workflows.core.pii_text)
    # cases and tasks
    CASE_NOT_FOUND = "case_not_found"  # case_no
    SUBMISSION_NOT_FOUND = "submission_not_found"  # case_no: no such submission of this case
    CASE_WITHOUT_PROCESS = "case_without_process"  # case_no
    TASK_NOT_FOUND = "task_not_found"
    PARTY_NOT_IN_CASE = "party_not_in_case"
    CHOOSE_PURPOSE = "choose_purpose"
    CHOOSE_EXPORT_PURPOSE = "choose_export_purpose"
    CASE_ARCHIVED = "case_archived"
    PROCESS_NOT_IN_VERSION = "process_not_in_version"  # process
    CHOOSE_RATING = "choose_rating"
    MEDIATOR_REQUIRED = "mediator_required"
    MEDIATOR_OUT_OF_SCOPE = "mediator_out_of_scope"  # name, unit
    CO_MEDIATOR_IS_MEDIATOR = "co_mediator_is_mediator"
    CHOOSE_CANDIDATE = "choose_candidate"
    ORIGINAL_CASE_CLOSED = "original_case_closed"
    ORIGINAL_CASE_NOT_OBSERVED = "original_case_not_observed"
    TICK_SIGNATURES = "tick_signatures"
    # intake and the API
    APPLICANT_REQUIRED = "applicant_required"
    PARTY_REQUIRED = "party_required"
    BODY_NOT_JSON = "body_not_json"
    BODY_NOT_OBJECT = "body_not_object"
    NOT_OBJECT = "not_object"
    NOT_LIST = "not_list"
    NOT_TRUE_FALSE = "not_true_false"
    NOT_ISO_TIME = "not_iso_time"
    TIME_WITHOUT_ZONE = "time_without_zone"
    BAD_IDEMPOTENCY_KEY = "bad_idempotency_key"  # limit
    UNKNOWN_CHANNEL = "unknown_channel"  # channel
    BAD_ORDER_NO = "bad_order_no"  # limit
    ORDER_NOT_QUARANTINED = "order_not_quarantined"
    BAD_ENDPOINT = "bad_endpoint"
    CHOOSE_EVENT_KINDS = "choose_event_kinds"
    BAD_CURSOR = "bad_cursor"
    TOKEN_DAYS = "token_days"  # noqa: S105 (a code, not a secret); min, max
    # intake: location, amount, parties, received time
    LOCATION_ONE_OF = "location_one_of"
    PLACE_UNKNOWN = "place_unknown"  # code
    PLACE_NOT_CASE_LEVEL = "place_not_case_level"  # code
    ADDRESS_CANDIDATES = "address_candidates"  # candidates: [{"code", "address"}]
    NOT_NUMBER = "not_number"
    AMOUNT_DECIMALS = "amount_decimals"
    PHONE_FORMAT = "phone_format"
    CREDIT_CODE_FORMAT = "credit_code_format"
    CREDIT_CODE_CHECK_DIGIT = "credit_code_check_digit"
    PERSON_ONLY = "person_only"
    ORGANISATION_ONLY = "organisation_only"
    AGE_OR_BIRTH_DATE = "age_or_birth_date"
    BIRTH_DATE_IN_FUTURE = "birth_date_in_future"
    TOO_MANY_PARTIES = "too_many_parties"  # limit
    RECEIVED_YEAR = "received_year"  # low, high
    RECEIVED_IN_FUTURE = "received_in_future"  # minutes
    RECEIVED_LATE_REASON = "received_late_reason"  # days
    PETITION_FINAL = "petition_final"  # case_no: the earlier petition answered on 复核
    # accounts
    PASSWORD_TOO_SHORT = "password_too_short"  # noqa: S105 (a code, not a secret); limit
    PASSWORD_TOO_SIMPLE = "password_too_simple"  # noqa: S105
    WRONG_PASSWORD = "wrong_password"  # noqa: S105
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    WRONG_SECOND_FACTOR = "wrong_second_factor"
    DATE_BEFORE_FLOOR = "date_before_floor"  # floor
    DATE_IN_FUTURE = "date_in_future"  # latest
    DATE_TOO_FAR = "date_too_far"  # latest
    UNKNOWN_DEPARTMENT = "unknown_department"  # code
    UNKNOWN_ROLE = "unknown_role"  # roles
    ADMIN_NOT_AUDITOR = "admin_not_auditor"
    BAD_USERNAME = "bad_username"
    USER_EXISTS = "user_exists"  # username
    USER_NOT_FOUND = "user_not_found"  # username
    # directory imports (places, units, users); a row error names its row and column
    IMPORT_FILE_TYPE = "import_file_type"
    IMPORT_FILE_UNREADABLE = "import_file_unreadable"
    IMPORT_NO_ROWS = "import_no_rows"
    IMPORT_TOO_MANY_ROWS = "import_too_many_rows"  # limit
    MISSING_COLUMN = "missing_column"  # column
    UNKNOWN_COLUMN = "unknown_column"  # column
    DUPLICATE_COLUMN = "duplicate_column"  # column
    DUPLICATE_IN_FILE = "duplicate_in_file"  # value, row
    BAD_CODE = "bad_code"
    UNKNOWN_LEVEL = "unknown_level"
    PARENT_REQUIRED = "parent_required"
    UNKNOWN_PARENT = "unknown_parent"  # code
    PLACE_CYCLE = "place_cycle"  # codes
    LEVEL_NOT_BELOW_PARENT = "level_not_below_parent"  # code
    LEVEL_NOT_ABOVE_CHILD = "level_not_above_child"  # code
    ADDRESS_ONLY_BUILDING = "address_only_building"
    UNKNOWN_PLACE = "unknown_place"  # code
    UNKNOWN_UNIT = "unknown_unit"  # code
    UNIT_REQUIRED = "unit_required"  # a unit code to type (imports, the expert form)
    CHOOSE_UNIT = "choose_unit"  # the account forms' unit list
    UNKNOWN_KIND = "unknown_kind"  # kind (a warning: nothing routes to it)
    # the admin's directory pages
    ROLE_REQUIRED = "role_required"
    DISPLAY_NAME_REQUIRED = "display_name_required"
    UNIT_EXISTS = "unit_exists"  # code
    UNIT_NOT_FOUND = "unit_not_found"  # unit
    OWN_ACCOUNT = "own_account"
    CHOOSE_IMPORT_KIND = "choose_import_kind"
    CHOOSE_IMPORT_FILE = "choose_import_file"
    IMPORT_EXPIRED = "import_expired"
    # mediation rooms, sessions and experts
    ROOM_NOT_FOUND = "room_not_found"  # code
    ROOM_REQUIRED = "room_required"
    ROOM_NOT_OF_UNIT = "room_not_of_unit"  # room (its name)
    ROOM_TAKEN = "room_taken"  # room, start, end, case_no (the conflicting booking)
    ROOM_TAKEN_MEANWHILE = "room_taken_meanwhile"  # room
    MEETING_LINK_REQUIRED = "meeting_link_required"
    MEETING_LINK_FORMAT = "meeting_link_format"
    TIME_FORMAT = "time_format"
    QUARTER_HOURS = "quarter_hours"
    END_BEFORE_START = "end_before_start"
    SESSION_TOO_LONG = "session_too_long"  # hours
    SESSION_IN_PAST = "session_in_past"
    SESSION_NOT_FOUND = "session_not_found"
    SESSION_NOT_BOOKED = "session_not_booked"  # status
    SESSION_NOT_STARTED = "session_not_started"  # start (in words)
    CANCEL_REASON_REQUIRED = "cancel_reason_required"
    CAPACITY_RANGE = "capacity_range"  # min, max
    EXPERT_NOT_FOUND = "expert_not_found"
    EXPERT_FIELD = "expert_field"
    WEEKDAYS = "weekdays"
    EXPERT_NOT_AVAILABLE = "expert_not_available"  # day
    CONFLICT_NOT_CONFIRMED = "conflict_not_confirmed"
    ALREADY_INVITED = "already_invited"
    OPINION_REQUIRED = "opinion_required"
    OPINION_SUBMITTED = "opinion_submitted"  # an invitation's opinion is written once
    INVITATION_NOT_FOUND = "invitation_not_found"
    # processes
    NO_TOP_PROCESS = "no_top_process"  # process_id
    CHOOSE_FILES = "choose_files"
    FILES_BODY = "files_body"
    DRY_RUN_BODY = "dry_run_body"
    BAD_FILE_NAME = "bad_file_name"
    FILE_TOO_LARGE = "file_too_large"  # limit
    NOT_UTF8 = "not_utf8"
    DRAFT_EMPTY = "draft_empty"
    FILES_TOO_LARGE = "files_too_large"  # limit
    DRAFT_NOT_FOUND = "draft_not_found"  # draft_id
    VERSION_NOT_FOUND = "version_not_found"  # process_id, version
    VERSION_ID_NOT_FOUND = "version_id_not_found"  # version_id
    VERSION_NOT_PENDING = "version_not_pending"  # status
    VERSION_RETIRED = "version_retired"
    RETIRE_REASON_REQUIRED = "retire_reason_required"
    LAST_ENTRY_VERSION = "last_entry_version"  # the last active version of an entry process
    PROCESS_NOT_STARTABLE = "process_not_startable"  # no active version
    CASE_TYPE_NOT_FOUND = "case_type_not_found"
    CHOOSE_VERSION = "choose_version"
    CHOOSE_CASES = "choose_cases"
    VERSION_NOT_ACTIVE = "version_not_active"  # version
    MIGRATION_REASON_REQUIRED = "migration_reason_required"
    FORCE_REASON_REQUIRED = "force_reason_required"
    PROCESS_ENDED = "process_ended"
    PROCESS_CANCELLED = "process_cancelled"
    ALREADY_ON_VERSION = "already_on_version"  # version
    SUBPROCESS_MISSING = "subprocess_missing"  # elements
    STEPS_CHANGED = "steps_changed"  # elements
    MIGRATION_FAILED = "migration_failed"  # detail
    # reports
    REPORT_NOT_FOUND = "report_not_found"  # report_id
    # KPI targets and the cockpit
    UNKNOWN_KPI = "unknown_kpi"  # kpi
    BAD_COMPARATOR = "bad_comparator"
    BAD_TARGET_VALUE = "bad_target_value"  # high
    DATES_REVERSED = "dates_reversed"
    SOURCE_REQUIRED = "source_required"
    TARGET_NOT_FOUND = "target_not_found"  # target_id
    ROW_ERRORS = "row_errors"  # rows: "2, 5"
    PERIOD_TOO_LONG = "period_too_long"  # days
    # deadlines, calendar, supervision
    NO_OVERRIDE = "no_override"  # day
    BAD_DAY_KIND = "bad_day_kind"
    CALENDAR_REASON_REQUIRED = "calendar_reason_required"
    CLOCK_NOT_FOUND = "clock_not_found"  # case_no, kind
    CLOCK_NOT_RUNNING = "clock_not_running"  # case_no, kind
    REQUEST_NOT_FOUND = "request_not_found"  # request_id
    REQUEST_PENDING = "request_pending"
    REQUEST_REASON_REQUIRED = "request_reason_required"
    ONLY_SUSPEND_OR_EXTEND = "only_suspend_or_extend"
    CHOOSE_EXTENSION_UNIT = "choose_extension_unit"
    EXTENSION_COUNT = "extension_count"  # limit
    BAD_EXTENSION = "bad_extension"
    TOO_MANY_EXTENSIONS = "too_many_extensions"  # limit
    EXTENSION_TOO_LONG = "extension_too_long"
    NOTE_REQUIRED = "note_required"
    NOTICE_NOT_FOUND = "notice_not_found"  # notice_id
    NOTICE_CLOSED = "notice_closed"        # the case closed: the 督办单 closed with it
    NOTICE_REASON_REQUIRED = "notice_reason_required"
    NOTICE_CASE_CLOSED = "notice_case_closed"
    NOTICE_DEPARTMENT_UNKNOWN = "notice_department_unknown"
    RISK_REASON_REQUIRED = "risk_reason_required"
    PLACE_NOT_FOUND = "place_not_found"  # place_code
    # IoT alarms and devices
    UNKNOWN_ALARM_KIND = "unknown_alarm_kind"  # kind
    PLACE_NOT_BUILDING = "place_not_building"  # code
    OCCURRED_TOO_OLD = "occurred_too_old"  # days
    # attachments and grid workers' reports
    ATTACHMENT_EMPTY = "attachment_empty"
    ATTACHMENT_TYPE = "attachment_type"  # allowed
    ATTACHMENT_DISGUISED = "attachment_disguised"  # extension
    ATTACHMENT_UNREADABLE = "attachment_unreadable"
    ATTACHMENT_NOT_FOUND = "attachment_not_found"  # attachment_id
    ATTACHMENT_NAME = "attachment_name"   # a path or control characters in an attached file's name
    TOO_MANY_FILES = "too_many_files"  # limit
    DOCUMENT_NOT_FOUND = "document_not_found"  # document_id
    DOCUMENT_ALTERED = "document_altered"  # document_id: differs from the hash first issued
    DOCUMENT_FONT_MISSING = "document_font_missing"  # path
    PLACE_OUTSIDE_GRID = "place_outside_grid"  # code
    GRID_PLACE_REQUIRED = "grid_place_required"
    NO_GRID = "no_grid"
    GRID_REPORT_NOT_FOUND = "grid_report_not_found"  # report_id
    GRID_PERSONAL_DATA = "grid_personal_data"  # kind, field (a grid form's field, by its label)
    # denials (NotPermitted; the rule names the policy rule)
    NO_CASE_ACCESS = "no_case_access"
    NO_TASK_ACCESS = "no_task_access"
    PROCESS_OWNER_ONLY = "process_owner_only"
    RELEASE_OWN_TASK = "release_own_task"
    SECOND_OWNER = "second_owner"
    DISTRICT_REPORTS = "district_reports"
    REPORTS_ROLE = "reports_role"
    SUPERVISION_ROLE = "supervision_role"
    CALENDAR_ADMIN_ONLY = "calendar_admin_only"
    SLA_REQUEST_HANDLER = "sla_request_handler"
    SLA_APPROVER = "sla_approver"
    FOUR_EYES = "four_eyes"
    SLA_RESUME = "sla_resume"
    NOTICE_DEPARTMENT = "notice_department"
    NOTICE_REPLY_ROLE = "notice_reply_role"
    AUDITOR_ONLY = "auditor_only"
    ADMIN_ONLY = "admin_only"
    PLACE_SCOPE = "place_scope"
    COCKPIT_ROLE = "cockpit_role"
    IOT_CHANNEL_ONLY = "iot_channel_only"
    QUARANTINE_ROLE = "quarantine_role"
    OWN_REPORTS_ONLY = "own_reports_only"


class DomainError(Exception):
    """Base of the domain errors; ``code`` and ``params`` say what happened, where it applies."""

    code: str | None = None
    params: Mapping[str, Any] = {}


class NotFound(DomainError):
    """No such object (or not visible to this actor: callers see 403 for out-of-scope cases)."""

    def __init__(self, code: str = ErrorCode.NOT_FOUND, **params: Any):
        self.code, self.params = code, params
        super().__init__(str(FieldError(code, params)))


class NotPermitted(DomainError):
    """The actor may not do this; ``rule`` names the policy rule that denied it."""

    audited = False  # set once its access_denied event is written (access.policy.deny)

    def __init__(self, code: str = ErrorCode.NOT_PERMITTED, rule: str = "", **params: Any):
        self.code, self.params, self.rule = code, params, rule
        super().__init__(str(FieldError(code, params)))


class InvalidInput(DomainError):
    """Submitted data failed validation; ``field_errors`` maps field to a FieldError."""

    def __init__(self, field_errors: Mapping[str, FieldError]):
        self.field_errors = dict(field_errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.field_errors.items()))


class TaskNoLongerAvailable(DomainError):
    """The task was completed, cancelled or overtaken by a deadline meanwhile."""

    def __init__(self, bpmn_id: str = "", state: str = ""):
        self.bpmn_id, self.state = bpmn_id, state
        super().__init__(f"task {bpmn_id} is no longer available ({state})")


class IdempotencyConflict(DomainError):
    """The same Idempotency-Key was used with a different request body."""


class DeployRejected(DomainError):
    """A BPMN/DMN bundle was refused; ``problems`` name file, element id and reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class ProcessIncident(DomainError):
    """An engine step failed (an expression, an operation): nothing was saved, the instance is
    in status 'incident' and the supervisors were notified (``workflows.casework.incidents``)."""

    def __init__(self, case_no: str | None, element_id: str | None = None):
        self.case_no, self.element_id = case_no, element_id  # case_no None: no case was saved
        super().__init__(f"process step {element_id or '?'} of case {case_no or '-'} failed")
