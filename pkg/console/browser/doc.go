// Package browser holds the admin console's end-to-end test: the built
// service (functions/local) with an in-process SMTP server and a Slack Web
// API test server, driven by headless Chromium through
// _console/test/walk.mjs (playwright-core and axe-core). It has no
// non-test code.
package browser
