package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/internal/events"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

func (s *server) eventsReady(c *gin.Context) bool {
	if s.Events == nil {
		problem(c, http.StatusNotImplemented, "event subscriptions are not enabled on this server")
		return false
	}
	return true
}

// eventsReadyWith is eventsReady for a route whose body is optional: an empty
// one leaves in as is.
func (s *server) eventsReadyWith(c *gin.Context, in any) bool {
	return s.eventsReady(c) && (c.Request.ContentLength == 0 || decodeStrict(c, in))
}

func (s *server) listEventTypes(c *gin.Context) {
	c.JSON(http.StatusOK, Page[events.Type]{Items: events.Catalog()})
}

func (s *server) listSubscriptions(c *gin.Context) {
	if !s.eventsReady(c) {
		return
	}
	vs, err := s.Events.List(c.Request.Context())
	reply(c, http.StatusOK, Page[*events.View]{Items: vs}, err)
}

func (s *server) createSubscription(c *gin.Context) {
	var in events.Input
	if !s.eventsReady(c) || !decodeStrict(c, &in) {
		return
	}
	v, err := s.Events.Create(c.Request.Context(), in)
	if err != nil {
		fail(c, err)
		return
	}
	c.Set(auditTarget, v.ID)
	c.JSON(http.StatusCreated, v)
}

func (s *server) getSubscription(c *gin.Context) {
	if !s.eventsReady(c) {
		return
	}
	v, err := s.Events.Get(c.Request.Context(), c.Param("id"))
	reply(c, http.StatusOK, v, err)
}

func (s *server) updateSubscription(c *gin.Context) {
	var in events.Input
	if !s.eventsReady(c) || !decodeStrict(c, &in) {
		return
	}
	v, err := s.Events.Update(c.Request.Context(), c.Param("id"), in)
	reply(c, http.StatusOK, v, err)
}

func (s *server) deleteSubscription(c *gin.Context) {
	if !s.eventsReady(c) {
		return
	}
	noContent(c, s.Events.Delete(c.Request.Context(), c.Param("id")))
}

// rotateRequest is the body of a secret rotation.
type rotateRequest struct {
	// Overlap keeps the old secret signing too for this long (e.g. "24h").
	Overlap string `json:"overlap,omitempty"`
}

func (s *server) rotateSubscriptionSecret(c *gin.Context) {
	var in rotateRequest
	if !s.eventsReadyWith(c, &in) {
		return
	}
	var overlap time.Duration
	if in.Overlap != "" {
		d, err := time.ParseDuration(in.Overlap)
		if err != nil {
			problem(c, http.StatusUnprocessableEntity, "the rotation is invalid", &workflow.FieldError{Path: "overlap", Message: "must be a duration such as 24h"})
			return
		}
		overlap = d
	}
	v, err := s.Events.Rotate(c.Request.Context(), c.Param("id"), overlap)
	reply(c, http.StatusOK, v, err)
}

// testEventRequest picks the type of a test event.
type testEventRequest struct {
	EventType string `json:"event_type,omitempty"`
}

func (s *server) testSubscription(c *gin.Context) {
	var in testEventRequest
	if !s.eventsReadyWith(c, &in) {
		return
	}
	id, err := s.Events.Test(c.Request.Context(), c.Param("id"), in.EventType)
	if err != nil {
		fail(c, err)
		return
	}
	v, err := s.Events.Delivery(c.Request.Context(), c.Param("id"), id)
	reply(c, http.StatusAccepted, v, err)
}

func (s *server) listSubscriptionDeliveries(c *gin.Context) {
	p, ok := page(c)
	if !ok || !s.eventsReady(c) {
		return
	}
	items, next, err := s.Events.Deliveries(c.Request.Context(), c.Param("id"), p)
	reply(c, http.StatusOK, Page[*events.DeliveryView]{Items: items, NextCursor: next}, err)
}

func (s *server) getSubscriptionDelivery(c *gin.Context) {
	if !s.eventsReady(c) {
		return
	}
	v, err := s.Events.Delivery(c.Request.Context(), c.Param("id"), c.Param("delivery"))
	reply(c, http.StatusOK, v, err)
}

func (s *server) resendSubscriptionDelivery(c *gin.Context) {
	if !s.eventsReady(c) {
		return
	}
	v, err := s.Events.Resend(c.Request.Context(), c.Param("id"), c.Param("delivery"))
	reply(c, http.StatusAccepted, v, err)
}
