"""deskbox - a synchronous client for deskbox (isolated Linux desktops for
agents). See README.md; the names follow E2B Desktop's SDK where they mean
the same thing."""

from .client import Deskbox, ExecResult, OutputChunk, ProcessExit, Sandbox
from .errors import (AuthenticationError, BadRequest, Conflict, ConnectionFailed, DeskboxError, NoSpace,
                     NotFound, PermissionDenied, RateLimited, ServerError, Timeout, TooLarge, Unavailable,
                     error_for)

__all__ = ["Deskbox", "Sandbox", "ExecResult", "OutputChunk", "ProcessExit", "DeskboxError", "BadRequest",
           "AuthenticationError", "PermissionDenied", "NotFound", "Conflict", "TooLarge", "RateLimited",
           "ServerError", "Unavailable", "Timeout", "NoSpace", "ConnectionFailed", "error_for"]
