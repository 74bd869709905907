package main

import (
	"testing"

	"github.com/hibiken/asynq"
)

func TestParseRedisURL(t *testing.T) {
	opt, err := parseRedisURL("redis://app:pw@127.0.0.1:6380/2")
	c, ok := opt.(asynq.RedisClientOpt)
	if err != nil || !ok || c.Username != "app" || c.Password != "pw" || c.DB != 2 || c.Addr != "127.0.0.1:6380" {
		t.Errorf("redis URL = %+v, %v", opt, err)
	}
	opt, err = parseRedisURL("redis-sentinel://:spw@s1:26379,s2:26379?master=mp&password=mpw&username=app&db=3")
	f, ok := opt.(asynq.RedisFailoverClientOpt)
	if err != nil || !ok || f.MasterName != "mp" || len(f.SentinelAddrs) != 2 || f.SentinelPassword != "spw" ||
		f.Password != "mpw" || f.Username != "app" || f.DB != 3 {
		t.Errorf("sentinel URL = %+v, %v", opt, err)
	}
	for _, bad := range []string{"redis-sentinel://s1:26379", "redis-sentinel://s1:26379?master=m&db=x", "http://x", "redis://h/notanumber"} {
		if _, err := parseRedisURL(bad); err == nil {
			t.Errorf("parseRedisURL(%q) accepted", bad)
		}
	}
}
