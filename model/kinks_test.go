package model

import "testing"

// TestKinks names the sources of kinks of each kind of model.
func TestKinks(t *testing.T) {
	img := Options{Shape: []int{1, 8, 8}}
	relu := Options{Shape: []int{1, 8, 8}, Act: "relu"}
	for _, c := range []struct {
		spec string
		opt  Options
		want string
	}{
		{"softmax", Options{}, ""},
		{"softmax", Options{Act: "relu"}, ""}, // no hidden layer: the activation is unused
		{"mlp:4", Options{}, ""},
		{"mlp:4", Options{Act: "relu"}, "ReLU"},
		{"cnn:c2k3,avg2,f4", img, ""},
		{"cnn:c2k3,max2,f4", img, "max pooling"},
		{"cnn:c2k3,avg2,c2k2,max2", relu, "max pooling and ReLU"},
	} {
		m, err := New(c.spec, 64, 3, c.opt)
		if err != nil {
			t.Fatal(err)
		}
		if got := Kinks(m); got != c.want {
			t.Errorf("%s %+v: Kinks = %q, want %q", c.spec, c.opt, got, c.want)
		}
	}
}
