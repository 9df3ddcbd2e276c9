// gcmark: a heap of linked nodes that runtime.GC marks again and again.  The
// mark work (gcDrain, scanobject) runs on g0 under runtime.systemstack, called
// by the mark worker goroutines and by runtime.GC's own goroutine, so a
// profiler samples chains that cross systemstack all the time.  The amount of
// work is fixed, not the time.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
)

type node struct {
	next  *node
	other *node
	pad   [4]uint64
}

func build(n int) *node {
	var head *node
	nodes := make([]*node, 0, n)
	for i := 0; i < n; i++ {
		head = &node{next: head}
		nodes = append(nodes, head)
	}
	for i, nd := range nodes {
		nd.other = nodes[(i*7919)%n]
	}
	return head
}

func main() {
	rounds := 20
	if len(os.Args) > 1 {
		n, err := strconv.Atoi(os.Args[1])
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "gcmark: rounds must be a positive integer, got %q\n", os.Args[1])
			os.Exit(2)
		}
		rounds = n
	}
	head := build(400000)
	for r := 0; r < rounds; r++ {
		runtime.GC()
	}
	runtime.KeepAlive(head)
	fmt.Println("ok")
}
