module github.com/go-release-lab/runtime-foundations/stack-growth

go 1.21
