"""Large export files for the import bench: one thread of N comments, written twice,
as a seed page (``import_seeds``) and as a WordPress WXR file (``import_comments``),
with the same comments, authors, times and tree, so the two importers are timed on
the same thread. Also a Disqus or Blogger file on request.

``python -m bench.imports_gen N [--format wordpress|disqus|blogger|seeds] [--out FILE]``

The shape is the seed threads': top-level comments with 0-4 replies each (about
40% replies), a fifth anonymous, bodies of one to three paragraphs with a link now
and then. Deterministic (seeded): the same N gives the same files.
"""

import argparse
import datetime
import random
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

WORDS = [
    "probation",
    "officer",
    "caseload",
    "supervision",
    "court",
    "report",
    "risk",
    "offender",
    "service",
    "hostel",
    "licence",
    "recall",
    "privatisation",
    "community",
    "order",
    "unpaid",
    "work",
    "union",
    "napo",
    "management",
    "target",
    "inspection",
    "trust",
    "contract",
    "rehabilitation",
    "staff",
    "office",
    "team",
    "manager",
    "training",
    "culture",
    "value",
    "practice",
    "change",
    "reform",
    "minister",
    "budget",
]
NAMES = ("Jane", "Sam", "Pat", "Lee", "Kim", "Max", "Ann", "Robin", "Gill", "Alex")
START = datetime.datetime(2024, 3, 1, 8, 0, tzinfo=datetime.UTC)


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 18))]
    return " ".join(words).capitalize() + "."


def _body(rng: random.Random) -> str:
    paragraphs = []
    for _ in range(rng.randint(1, 3)):
        text = " ".join(_sentence(rng) for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.1:
            text += f" See https://example.org/{rng.choice(WORDS)}/{rng.randint(1, 999)}"
        paragraphs.append(text)
    return "\n\n".join(paragraphs)


def thread(count: int, *, seed: int = 12) -> Iterator[tuple[int, int | None, str, str]]:
    """(number, parent number or None, author or "", body) in pre-order: top-level
    comments, each followed by its replies."""
    rng = random.Random(seed)
    number = 0
    while number < count:
        number += 1
        top = number
        yield top, None, "" if rng.random() < 0.2 else rng.choice(NAMES), _body(rng)
        for _ in range(min(rng.choice((0, 0, 0, 1, 1, 2, 3, 4)), count - number)):
            number += 1
            yield number, top, "" if rng.random() < 0.2 else rng.choice(NAMES), _body(rng)


def write_seed(count: int, path: Path) -> None:
    """A seed page (fixtures/parser.py, variant a: Blogger's action words)."""
    comments = list(thread(count))
    with path.open("w", encoding="utf-8") as out:
        out.write("Friday 1 March 2024\n\nA bench thread\n\nThe post's body.\n\n")
        out.write(f"{count} comments:\n\n")
        top_number = 0
        index = 0
        while index < len(comments):
            number, _parent, author, body = comments[index]
            top_number += 1
            out.write(f"  {top_number}. " + _indent(body + _signed(author), 4)[4:] + "\n\n")
            out.write("    ReplyDelete\n")
            replies = []
            index += 1
            while index < len(comments) and comments[index][1] == number:
                replies.append(comments[index])
                index += 1
            if replies:
                out.write("    Replies\n")
                for reply_number, (_n, _p, r_author, r_body) in enumerate(replies, 1):
                    text = _indent(r_body + _signed(r_author), 6)[6:]
                    out.write(f"    {reply_number}. {text}\n\n      Delete\n")


def _signed(author: str) -> str:
    return f"\n\n{author}" if author else ""


def _indent(text: str, width: int) -> str:
    pad = " " * width
    return "\n".join(pad + line if line else "" for line in text.split("\n"))


def _time(number: int) -> datetime.datetime:
    return START + datetime.timedelta(minutes=number)


def write_wordpress(count: int, path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
            "<title>Bench Blog</title><link>https://bench.example.org</link>\n"
            "<item><title>A bench thread</title>"
            "<link>https://bench.example.org/2024/03/a-bench-thread/</link>"
            "<content:encoded>The post's body.</content:encoded>"
            "<wp:post_id>1</wp:post_id><wp:post_date_gmt>2024-03-01 08:00:00</wp:post_date_gmt>"
            "<wp:status>publish</wp:status><wp:post_type>post</wp:post_type>\n"
        )
        for number, parent, author, body in thread(count):
            out.write(
                f"<wp:comment><wp:comment_id>{number}</wp:comment_id>"
                f"<wp:comment_author>{escape(author)}</wp:comment_author>"
                f"<wp:comment_author_email>{author.lower()}@example.com</wp:comment_author_email>"
                f"<wp:comment_author_IP>198.51.100.{number % 250}</wp:comment_author_IP>"
                f"<wp:comment_date_gmt>{_time(number):%Y-%m-%d %H:%M:%S}</wp:comment_date_gmt>"
                f"<wp:comment_content>{escape(body)}</wp:comment_content>"
                "<wp:comment_approved>1</wp:comment_approved>"
                "<wp:comment_type>comment</wp:comment_type>"
                f"<wp:comment_parent>{parent or 0}</wp:comment_parent></wp:comment>\n"
            )
        out.write("</item>\n</channel>\n</rss>\n")


def write_disqus(count: int, path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns="http://disqus.com" '
            'xmlns:dsq="http://disqus.com/disqus-internals">\n'
            '<thread dsq:id="1"><forum>bench</forum>'
            "<link>https://bench.example.org/2024/03/a-bench-thread/</link>"
            "<title>A bench thread</title><createdAt>2024-03-01T08:00:00Z</createdAt>"
            "<isDeleted>false</isDeleted></thread>\n"
        )
        for number, parent, author, body in thread(count):
            html = "".join(f"<p>{escape(p)}</p>" for p in body.split("\n\n"))
            out.write(
                f'<post dsq:id="{number}"><message>{escape(html)}</message>'
                f"<createdAt>{_time(number):%Y-%m-%dT%H:%M:%SZ}</createdAt>"
                "<isDeleted>false</isDeleted><isSpam>false</isSpam>"
                f"<author><name>{escape(author)}</name></author>"
                f"<ipAddress>198.51.100.{number % 250}</ipAddress>"
                '<thread dsq:id="1"/>'
                + (f'<parent dsq:id="{parent}"/>' if parent else "")
                + "</post>\n"
            )
        out.write("</disqus>\n")


def write_blogger(count: int, path: Path) -> None:
    tag = "tag:blogger.com,1999:blog-42"
    kind = "http://schemas.google.com/blogger/2008/kind#"
    scheme = "http://schemas.google.com/g/2005#kind"
    with path.open("w", encoding="utf-8") as out:
        out.write(
            "<?xml version='1.0' encoding='UTF-8'?>\n<feed xmlns='http://www.w3.org/2005/Atom' "
            "xmlns:thr='http://purl.org/syndication/thread/1.0' "
            "xmlns:gd='http://schemas.google.com/g/2005'>\n"
            f"<id>{tag}.archive</id><title type='text'>Bench Blog</title>"
            "<link rel='alternate' type='text/html' href='https://bench.blogspot.com/'/>\n"
            f"<entry><id>{tag}.post-1</id><published>2024-03-01T08:00:00.000Z</published>"
            f"<category scheme='{scheme}' term='{kind}post'/><title type='text'>A bench thread"
            "</title><content type='html'>The post's body.</content><link rel='alternate' "
            "type='text/html' href='https://bench.blogspot.com/2024/03/a-bench-thread.html'/>"
            "</entry>\n"
        )
        for number, parent, author, body in thread(count):
            html = escape(body.replace("\n\n", "<br /><br />"))
            related = (
                f"<link rel='related' href='https://www.blogger.com/feeds/42/1/comments/default/"
                f"{parent + 1000}'/>"
                if parent
                else ""
            )
            out.write(
                f"<entry><id>{tag}.post-{number + 1000}</id>"
                f"<published>{_time(number):%Y-%m-%dT%H:%M:%S.000Z}</published>"
                f"<category scheme='{scheme}' term='{kind}comment'/>"
                f"<content type='html'>{html}</content>{related}"
                f"<author><name>{escape(author or 'Anonymous')}</name></author>"
                f"<thr:in-reply-to ref='{tag}.post-1'/></entry>\n"
            )
        out.write("</feed>\n")


WRITERS = {
    "seeds": (write_seed, "txt"),
    "wordpress": (write_wordpress, "wxr.xml"),
    "disqus": (write_disqus, "disqus.xml"),
    "blogger": (write_blogger, "blogger.xml"),
}


def generate(count: int, fmt: str, directory: Path) -> Path:
    """The file of ``count`` comments in ``fmt`` under ``directory`` (made once)."""
    writer, suffix = WRITERS[fmt]
    path = directory / f"thread-{count}.{suffix}"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        writer(count, partial)
        partial.replace(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--format", choices=sorted(WRITERS), default="wordpress")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    writer, suffix = WRITERS[args.format]
    out = args.out or Path(f"thread-{args.count}.{suffix}")
    writer(args.count, out)
    print(out)


if __name__ == "__main__":
    main()
