//go:build !unix

package notify

import "os"

func inode(fi os.FileInfo) uint64 { return 0 }
