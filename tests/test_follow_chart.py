"""The page a follower's lesson chart is drawn in (dcgan_core.viz.follow_chart)."""

import html.parser
import json

from dcgan_core.viz.follow_chart import follow_chart_height, follow_chart_html


class Parts(html.parser.HTMLParser):
    """The chart's attributes, script sources and the initial figure, as a browser would parse them."""

    def __init__(self):
        super().__init__()
        self.chart, self.sources, self.initial, self._in_initial = None, [], None, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and attrs.get("id") == "chart":
            self.chart = attrs
        if tag == "script":
            if "src" in attrs:
                self.sources.append(attrs["src"])
            self._in_initial = attrs.get("id") == "initial"

    def handle_data(self, data):
        if self._in_initial:
            self.initial = (self.initial or "") + data

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_initial = False


def test_the_chart_page_starts_with_the_figure_and_names_what_it_follows():
    figure = {"data": [{"type": "heatmap", "z": [[1, 2]]}], "layout": {"title": {"text": 'a "b" </script><b>'}}}
    page = follow_chart_html(
        json.dumps(figure), "os_animation", "output_size", "zh", "/app/static/classroom/1-ab", "/p.js", 320
    )
    parts = Parts()
    parts.feed(page)
    assert json.loads(parts.initial) == figure  # "<\/" is JSON for "</": a title cannot end the script early
    assert parts.chart["data-key"] == "os_animation" and parts.chart["data-page"] == "output_size"
    assert parts.chart["data-lang"] == "zh" and parts.chart["data-base"] == "/app/static/classroom/1-ab"
    assert "height:320px" in parts.chart["style"]
    assert parts.sources == ["/p.js"]


def test_attribute_values_are_escaped():
    page = follow_chart_html("{}", 'k"><script>', "p", "en", "/b", '/x.js"onload="alert(1)', 100)
    parts = Parts()
    parts.feed(page)
    assert parts.chart["data-key"] == 'k"><script>'
    assert parts.sources == ['/x.js"onload="alert(1)']


def test_the_frame_is_as_tall_as_the_figure_says():
    assert follow_chart_height({"layout": {"height": 380}}) == 380
    assert follow_chart_height({"layout": {}}) == 450  # Plotly's own default
    assert follow_chart_height({}) == 450
