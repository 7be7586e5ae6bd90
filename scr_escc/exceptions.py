"""Domain errors: a human message for the page, a 409 {"detail": …} for the API."""


class DomainError(Exception):
    """The trial's state forbids the action. Pages show the message; the API answers 409."""

    status_code = 409

    def __init__(self, message):
        super().__init__(message)
        self.message = str(message)

    def __str__(self) -> str:
        return self.message


class RecordVoided(DomainError):
    """A change to a voided record: refused the same way on pages (a message) and in the API (409)."""


class StudyHalted(DomainError):
    pass


class PhaseTransitionRefused(DomainError):
    pass


class SignatureRefused(DomainError):
    """Wrong password on an e-signature. Pages show it on the field; the API answers 403."""

    status_code = 403
