"""The public archive: every published issue on the web, searchable, with feeds.

views      home, newsletter by year, issue pages, tags, search results
search     PostgreSQL full-text search with ranking and snippets (a simpler match on SQLite)
feeds      Atom feed per newsletter
calendar   the iCalendar feed of events
sitemaps   sitemap.xml
contribute the public form for suggesting an item (the editors' inbox is newsletter.editor)
urls       the archive's URLs (mounted last: /<newsletter>/<issue>/ catches what is left)

Sections are prepared for the page by newsletter.rendering, the same code as the email.
The page cache is newsletter.pagecache. Nothing here imports sending or mail.
"""
