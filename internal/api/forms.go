package api

import (
	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/internal/trigger/form"
)

// The hosted forms live in internal/trigger/form; these adapt its answers
// to gin.

func (s *server) formPage(c *gin.Context) {
	if s.Forms == nil {
		writeForm(c, form.NotFound())
		return
	}
	writeForm(c, s.Forms.Page(c.Request.Context(), c.Param("token"), c.Request))
}

func (s *server) formSubmit(c *gin.Context) {
	if s.Forms == nil {
		writeForm(c, form.NotFound())
		return
	}
	writeForm(c, s.Forms.Submit(c.Request.Context(), c.Param("token"), c.Request))
}

func writeForm(c *gin.Context, resp *form.Response) {
	for k, vs := range resp.Header {
		c.Writer.Header()[k] = vs
	}
	if resp.Redirect != "" {
		c.Redirect(resp.Status, resp.Redirect)
		return
	}
	c.Data(resp.Status, resp.Header.Get("Content-Type"), resp.Body)
}
