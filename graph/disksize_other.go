//go:build !unix

package graph

import "os"

// bytesOnDisk returns fi's length where the platform does not report its blocks.
func bytesOnDisk(fi os.FileInfo) int64 { return fi.Size() }
