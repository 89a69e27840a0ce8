package graph

import (
	"errors"
	"fmt"
)

// Error codes. They are the `extensions.code` values of the GraphQL API.
const (
	ENOTFOUND        = "NOT_FOUND"
	EINVALID         = "INVALID_INPUT"
	EUNAUTHENTICATED = "UNAUTHENTICATED"
	EFORBIDDEN       = "FORBIDDEN"
	ELIMIT           = "LIMIT_EXCEEDED"
	EINTERNAL        = "INTERNAL"
)

// Error is an error a client may see: a machine-readable Code, the input Field it concerns
// (may be empty) and a Message a person can act on. Every other error is internal: it is
// logged, and clients see only "internal error".
type Error struct {
	Code    string
	Field   string
	Message string

	budget bool // an ELIMIT from limitError: a traversal ran out of budget (TraversalStats)
}

// Error returns the message, prefixed with the field when there is one.
func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// Errorf returns an *Error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID *Error about field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err when it is (or wraps) an *Error, EINTERNAL otherwise,
// and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

func errorf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// errBudget is returned by a view when a traversal exhausted its visit budget or its
// deadline. Traversals turn it into Truncated results or an ELIMIT error.
var errBudget = errors.New("graph: traversal budget exhausted")

// limitError is the ELIMIT error for a traversal that ran out of budget where a partial
// answer would be wrong.
func limitError(what string) *Error {
	e := Errorf(ELIMIT, "%s needed more work than one request may do (visit budget or time limit reached); narrow it with maxDepth, types or asOf", what)
	e.budget = true
	return e
}

// budgetExhausted reports whether err says a traversal ran out of its budget: errBudget
// itself, or the ELIMIT error limitError made of it.
func budgetExhausted(err error) bool {
	var e *Error
	return errors.Is(err, errBudget) || errors.As(err, &e) && e.budget
}
