package main

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/hibiken/asynq"
)

// parseRedisURL reads REDIS_URL. It accepts what asynq.ParseRedisURI accepts and fills in what that
// drops: the user name of redis:// and rediss:// URLs (Redis ACL users), and for
// redis-sentinel://[:sentinel-password@]host:port[,host:port...]?master=NAME the data nodes'
// credentials and database as query parameters: username, password, db.
func parseRedisURL(s string) (asynq.RedisConnOpt, error) {
	opt, err := asynq.ParseRedisURI(s)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	switch o := opt.(type) {
	case asynq.RedisClientOpt:
		if u.User != nil {
			o.Username = u.User.Username()
		}
		return o, nil
	case asynq.RedisFailoverClientOpt:
		q := u.Query()
		if o.MasterName == "" {
			return nil, fmt.Errorf("redis-sentinel URL without ?master=NAME")
		}
		if u.User != nil {
			o.SentinelUsername = u.User.Username()
		}
		o.Username, o.Password = q.Get("username"), q.Get("password")
		if v := q.Get("db"); v != "" {
			if o.DB, err = strconv.Atoi(v); err != nil {
				return nil, fmt.Errorf("redis-sentinel URL: db must be a number")
			}
		}
		return o, nil
	}
	return opt, nil
}
