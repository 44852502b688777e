package main

import "github.com/sgdprior/sgdprior/field"

// flagError turns a *field.Error into a usage error naming the flag ("--lr must be > 0, not
// 0"); other errors pass unchanged.
func flagError(err error) error {
	if fe := field.As(err); fe != nil {
		return usagef("%s", fe.Flag())
	}
	return err
}
