// Package boundary holds no code: its test declares which packages each
// package of argo-notify may import, and fails when one imports across a
// declared line (STYLE: "boundaries are tested, not only written").
package boundary
