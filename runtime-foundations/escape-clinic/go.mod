module github.com/go-release-lab/runtime-foundations/escape-clinic

go 1.21
