// Command hello is the binary of the images test: any static executable.
package main

import "fmt"

func main() { fmt.Println("hello") }
