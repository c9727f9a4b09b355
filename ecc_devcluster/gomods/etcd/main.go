// Command etcd is the unmodified etcd server: it only calls etcdmain.Main, as etcd's own
// server/main.go does, so the binary behaves exactly like the upstream release.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
