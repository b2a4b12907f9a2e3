// Package deploy holds the container and Kubernetes files. It is a module of
// its own so the Kubernetes API types its test decodes the manifests into
// stay out of Switchboard's own dependencies.
package deploy
