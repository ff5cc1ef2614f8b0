module github.com/go-release-lab/runtime-foundations/schedule-forensics

go 1.21
