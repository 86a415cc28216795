// Package filter is the one model of a customer filter (SPEC §4), shared by
// the HTTP API, which parses it from query parameters with [FromQuery], and by
// the CLI and the TUI, which build a [Filter] and send it with [Filter.Query].
// It also holds the parser of where-expressions ([ParseWhere]).
//
// The package validates and types input; it must not know about SQL, HTTP
// handlers or storage, and it imports nothing from the rest of TinyCRM. Every
// value it hands out is plain data that the store binds as query parameters:
// nothing here is ever meant to be spliced into SQL text.
//
// # Where-expressions
//
// A where-expression is one or more conditions joined by "," or by "and"
// (case-insensitive, with whitespace before it and whitespace or the end of
// the input after it):
//
//	plan=pro, mrr>=9
//	trial_ends < 2026-04-01 and plan exists
//	name ~ "chen, alice"
//
// A condition is KEY OP VALUE, or KEY exists, or KEY !exists.
//
// KEY is a top-level params key ([A-Za-z0-9_.-]{1,64}, case-sensitive) or one
// of the reserved keys "status", "first_seen" and "last_seen" (exactly these
// spellings), which name the membership's columns; see [Cond.Field]. A params
// key spelled like a reserved key cannot be filtered on.
//
// OP is one of = != > >= < <= and ~ (substring, case-insensitive). Ordering
// operators work on every kind of value; on text they compare text.
//
// VALUE is either a double-quoted string, in which \" and \\ are the only
// escapes, or a bare word: everything up to the next ",", joining "and" or the
// end, with surrounding whitespace trimmed. A bare word must not start with
// one of = ! < > ~ (which is almost always a mistyped operator) and must not
// contain a double quote; quote such values. A quoted value is always
// [Text]. A bare word is typed:
//
//   - [Number] when it has JSON number syntax (-12, 0.5, 1e3; not 012, +1 or
//     .5, which are Text); one beyond the range of a float64 is an error;
//   - [Date] when it is an ISO date (2026-03-29, meaning that whole UTC day)
//     or an RFC 3339 timestamp (2026-03-29T10:00:00Z, 2026-03-29T12:00:00+02:00);
//     a word shaped like one but not a real date or time is an error;
//   - [Text] otherwise. In particular true, false and null are the text
//     "true", "false" and "null": the store compares a JSON boolean by its
//     text form, so flag=true matches both true and "true". Params never hold
//     a JSON null (SPEC §2: null deletes the key).
//
// Reserved keys are stricter: status takes a status token ([a-z0-9_-]{1,32},
// always Text) with = != ~ exists !exists, where "status exists" means a
// status was given (the column is not empty); first_seen and last_seen take a
// Date with = != > >= < <= only. The operator ~ always yields a non-empty Text
// value, whatever the word looks like, since a substring has no type.
//
// Limits: an expression is at most [MaxWhereLen] bytes and [MaxConds]
// conditions; it must be valid UTF-8 without control characters other than
// tab, CR and LF. Every error is a [*SyntaxError] that names a 1-based byte
// position.
//
// # Meaning, for the store
//
// Conditions of one expression must all hold for the same membership in scope
// (the memberships in the Projects, or all of them when Projects is empty);
// several expressions each need such a membership, not necessarily the same
// one. Every comparison, != included, holds only where the key is present
// with a comparable value, as SQL NULLs do; "KEY !exists" finds the absent.
// A Number matches JSON numbers only, compared numerically (bind Value.Text as
// numeric to stay exact); a Date matches strings holding an ISO date or RFC
// 3339 timestamp, compared in time, with a date-only value standing for its
// whole UTC day (see [Value.Span]); Text compares with the text form of the
// JSON value (->> in PostgreSQL).
package filter
