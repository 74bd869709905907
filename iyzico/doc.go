// Package iyzico is a client for iyzico's Mass Payout API: IYZWSv2 request signing, typed requests
// and answers with decimal amounts, and one *Error type whose classification (transient,
// ambiguous, permanent) drives the worker's retry decision. It imports only the standard library
// and shopspring/decimal.
package iyzico
