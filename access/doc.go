// Package access decides who may see and do what: identities (API keys
// today, people later), the roles of 数字城管 practice with their
// separation of duties, the grid subtree as a hard boundary, and the one
// rule table every route answers to.
//
// A request carries a Principal (put in its context by the HTTP layer once
// its credential checks out). Route-level permissions come from Allows;
// what a principal may see of the district comes from its Scope, resolved
// against the grid locator; what it may do to one case comes from
// CaseActions and CheckActions. Stores read the principal from the context
// to write the audit trail in the same transaction as each change.
package access
