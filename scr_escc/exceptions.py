"""Domain errors: a human message for the page, a 409 {"detail": …} for the API."""


class DomainError(Exception):
    """The trial's state forbids the action. Pages show the message; the API answers 409."""

    status_code = 409

    def __init__(self, message):
        super().__init__(message)
        self.message = str(message)

    def __str__(self) -> str:
        return self.message


class StudyHalted(DomainError):
    pass


class PhaseTransitionRefused(DomainError):
    pass


class SignatureRefused(DomainError):
    """Wrong password on an e-signature. Pages show it on the field; the API answers 403."""

    status_code = 403
