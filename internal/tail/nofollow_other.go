//go:build !unix

package tail

const noFollow = 0
