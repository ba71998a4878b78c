"""Every report item of the original job API, with every keyword argument it takes."""
from botscheduler import *

PIXEL = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
         "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


class Everything(JobBase):
    info = {'job_class_name': "Every item", 'report_title': "All the items"}

    @report
    def run(self, **kwargs):
        self._notify = False
        return [
            Header("left", "center", "right"),
            Title("Main <title>", "h1", color="red", size=30, style="italic"),
            Section("A section", color="navy"),
            Subsection("A subsection", "h3"),
            Subsubsection("A subsubsection"),
            Subsubsubsection("A subsubsubsection"),
            Text("first line\nsecond line <b>not bold</b>", "div", color="green", size=14,
                 style="oblique"),
            Blockquote("quoted", color="grey"),
            Code("print('<x>')", "python", hl_lines=["1"], line_numbers=True, size=11,
                 color="blue"),
            List("one", "two", "<three>", ordered=True, color="maroon"),
            List(["as", "a list"]),
            Table([[1, 2.345], [3, 4.5]], column_headers=["a", "b"], row_headers="indices",
                  column_footers=["sum", "x"], title="Numbers", flt_fmt="%.1f", size=9),
            Table([["x", "y"]]),
            Data({"key": ["v1", "v2"]}, size=12, color="purple"),
            Image(PIXEL, title="a pixel", alt="pixel", width="80%", height=10),
            Image("https://example.com/logo.png", title="remote logo"),
            Rule(color="silver"),
            Footer(right="page"),
            Code("ignored keywords", frobnicate=1, sparkle=True),
        ]
