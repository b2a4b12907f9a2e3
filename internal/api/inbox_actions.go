package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/trigger/webhook"
)

// inboxTrigger rebuilds the trigger data of one recorded inbox request.
func (s *server) inboxTrigger(c *gin.Context) (*store.InboundRequest, map[string]any, bool) {
	in, err := s.Store.GetInbound(c.Request.Context(), c.Param("id"), c.Param("item"))
	if err != nil {
		fail(c, err)
		return nil, nil, false
	}
	trigger, err := webhook.TriggerFromInbound(in)
	if err != nil {
		fail(c, err)
		return nil, nil, false
	}
	return in, trigger, true
}

// resendInbound runs the workflow's current version once more with a request
// the inbox recorded, whatever its verdict then (a fixed secret, a filter that
// now matches): the inbox's "send it again through the workflow".
func (s *server) resendInbound(c *gin.Context) {
	in, trigger, ok := s.inboxTrigger(c)
	if !ok {
		return
	}
	trigger["resent_from"] = in.ID
	run, err := s.Runs.StartManual(c.Request.Context(), c.Param("id"), trigger)
	if err != nil {
		fail(c, err)
		return
	}
	c.Set(auditTarget, c.Param("id"))
	c.JSON(http.StatusAccepted, viewRun(run))
}

// sampleFromInbound keeps a recorded request as the workflow's sample data,
// as a request to the test URL would: the inbox's "use as sample data".
func (s *server) sampleFromInbound(c *gin.Context) {
	in, trigger, ok := s.inboxTrigger(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	if err := s.Store.SaveSample(ctx, c.Param("id"), store.MustJSON(trigger), in.ReceivedAt); err != nil {
		fail(c, err)
		return
	}
	c.Set(auditTarget, c.Param("id"))
	data, at, err := s.Store.GetSample(ctx, c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, sampleView{Sample: rawTrigger(raw(data)), CapturedAt: at})
}
