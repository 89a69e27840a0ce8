package graph

import (
	"errors"
	"math"
)

// Argument checks shared by the traversals. Each names the argument (field) it refuses.

// checkDepth refuses a negative depth (EINVALID) and one above the cap (ELIMIT); the
// API never clamps silently.
func checkDepth(l Limits, field string, d int) error {
	switch {
	case d < 0:
		return Invalid(field, "must be 0 or more, got %d", d)
	case d > l.MaxDepth:
		return &Error{Code: ELIMIT, Field: field, Message: errorf("%d is above this server's cap of %d", d, l.MaxDepth)}
	}
	return nil
}

// checkCount refuses a count below 1 (EINVALID) and one above max (ELIMIT).
func checkCount(field string, n, max int) error {
	switch {
	case n < 1:
		return Invalid(field, "must be 1 or more, got %d", n)
	case n > max:
		return &Error{Code: ELIMIT, Field: field, Message: errorf("%d is above this server's cap of %d", n, max)}
	}
	return nil
}

// checkFraction refuses a value outside 0..1 or not a number.
func checkFraction(field string, x float64) error {
	if math.IsNaN(x) || x < 0 || x > 1 {
		return Invalid(field, "must be a fraction between 0 and 1, got %v", x)
	}
	return nil
}

// checkResults refuses an answer of n entries that is longer than the result cap (ELIMIT):
// the lists of owners, holdings, beneficialOwners and exposure have no first, and a
// partial list would be a wrong answer.
func checkResults(what, narrow string, n int, l Limits) error {
	if n > l.MaxSubgraph {
		return Errorf(ELIMIT, "%s has %d entries, more than this server's result cap of %d; %s", what, n, l.MaxSubgraph, narrow)
	}
	return nil
}

// overBudget turns errBudget into the ELIMIT error for what; other errors pass through.
func overBudget(err error, what string) error {
	if errors.Is(err, errBudget) {
		return limitError(what)
	}
	return err
}
