//go:build unix

package graph

import (
	"os"
	"syscall"
)

// bytesOnDisk returns the bytes fi's file occupies on disk (st_blocks × 512), not its
// length: Badger's value log is a sparse file whose length is its 2 GiB mapping.
func bytesOnDisk(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return fi.Size()
}
