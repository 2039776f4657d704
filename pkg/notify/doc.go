// Package notify is the domain of argo-notify: events, notification rules,
// recipients, the directory of users and groups, integrations and delivery
// records, with their validation and the one coded error type.
//
// It imports only the standard library. Every adapter (stores, queues,
// senders, the HTTP API) imports this package; this package imports none of
// them.
package notify
