"""errors.py - deskbox's errors as exceptions.

Every error the server answers carries a stable code (the `code` of
`{"error": {"code", "message"}}` in REST, `error.data.code` on the control
channel); each code maps to one exception class, so callers catch what they
mean (`except NotFound`) and can still read `.code`, `.status` and
`.message`.
"""


class DeskboxError(Exception):
    """Any error from deskbox. `code` is the server's stable code string
    (or a client-side one: "connection", "protocol"), `status` the HTTP
    status (None on the control channel), `index` the failing action of a
    batch (or None)."""

    code = "error"

    def __init__(self, message, code=None, status=None, index=None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.status = status
        self.index = index

    def __str__(self):
        return "%s: %s" % (self.code, self.message)


class BadRequest(DeskboxError):
    code = "bad_request"


class AuthenticationError(DeskboxError):
    code = "unauthorized"


class PermissionDenied(DeskboxError):
    code = "forbidden"


class NotFound(DeskboxError):
    code = "not_found"


class Conflict(DeskboxError):
    """The sandbox is not in a state to do that (not running, no desktop, busy)."""
    code = "busy"


class TooLarge(DeskboxError):
    code = "too_large"


class RateLimited(DeskboxError):
    code = "too_busy"


class ServerError(DeskboxError):
    code = "internal"


class Unavailable(DeskboxError):
    code = "unavailable"


class Timeout(DeskboxError):
    code = "timeout"


class NoSpace(DeskboxError):
    code = "no_space"


class ConnectionFailed(DeskboxError):
    """The server could not be reached."""
    code = "connection"


_BY_CODE = {
    "bad_json": BadRequest, "bad_request": BadRequest, "unauthorized": AuthenticationError,
    "forbidden": PermissionDenied, "not_found": NotFound, "method_not_allowed": BadRequest,
    "sandbox_not_running": Conflict, "no_desktop": Conflict, "desktop_not_running": Conflict,
    "busy": Conflict, "window_state": Conflict, "too_large": TooLarge, "too_many_sandboxes": RateLimited, "too_busy": RateLimited,
    "internal": ServerError, "desktop_failed": ServerError, "unavailable": Unavailable,
    "timeout": Timeout, "no_space": NoSpace,
}


def error_for(code, message, status=None, index=None):
    """The exception for a server error code (DeskboxError if unknown)."""
    return _BY_CODE.get(code, DeskboxError)(message, code=code, status=status, index=index)
