package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/internal/trigger/webhook"
)

func (s *server) hook(c *gin.Context) {
	acc, err := s.Webhooks.Receive(c.Request.Context(), c.Param("token"), c.Request)
	if err != nil {
		var we *webhook.Error
		if !errors.As(err, &we) {
			fail(c, err)
			return
		}
		if len(we.Allow) > 0 {
			c.Header("Allow", strings.Join(we.Allow, ", "))
		}
		if we.Status == http.StatusServiceUnavailable {
			c.Header("Retry-After", "5")
		}
		problem(c, we.Status, we.Reason)
		return
	}
	c.JSON(http.StatusAccepted, acc)
}
