using System.Net;
using System.Text;

namespace Shop;

/// <summary>One row of the page's product table, formatted by the release.</summary>
internal readonly record struct ProductRow(long Id, string Name, string Category, string Price, string Stock);

/// <summary>
/// The page at <c>/</c>: server-rendered HTML with a small inline script (no build step, no file on disk, nothing
/// fetched from elsewhere). The script follows <c>/feed</c>: it lists the events, shows the version of the release
/// that published the last one (<c>#feed-version</c>) and of the one that sent it (<c>#feed-sent-by</c>), counts the
/// times the stream opened (<c>#feed-opens</c>: 1 while it never reconnected), and updates the rows of the products they change, so a page opened
/// on one release shows the next release's data without a reload.
/// </summary>
internal static class Page
{
    /// <summary>The page.</summary>
    /// <param name="summary">A line about the shop's state.</param>
    /// <param name="rows">The products to show.</param>
    /// <param name="notes">What this release adds, one line each (HTML-encoded here).</param>
    public static string Render(string summary, IEnumerable<ProductRow> rows, IEnumerable<string> notes)
    {
        var html = new StringBuilder(Head.Replace("{VERSION}", Encode(AppInfo.Version), StringComparison.Ordinal));
        html.Append("<p id=\"summary\">").Append(Encode(summary)).Append("</p>\n<ul id=\"notes\">");
        foreach (var note in notes)
        {
            html.Append("<li>").Append(Encode(note)).Append("</li>");
        }
        html.Append("</ul>\n<div class=\"cols\"><section><h2>Products</h2><table id=\"products\"><thead><tr><th>id</th><th>name</th>")
            .Append("<th>category</th><th>price</th><th>stock</th></tr></thead><tbody>\n");
        foreach (var row in rows)
        {
            html.Append("<tr id=\"p-").Append(row.Id).Append("\"><td>").Append(row.Id).Append("</td><td>").Append(Encode(row.Name))
                .Append("</td><td>").Append(Encode(row.Category)).Append("</td><td class=\"price\">").Append(Encode(row.Price))
                .Append("</td><td class=\"stock\">").Append(Encode(row.Stock)).Append("</td></tr>\n");
        }
        html.Append("</tbody></table></section>\n").Append(Tail);
        return html.ToString();
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private const string Head = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Shop {VERSION}</title>
        <style>
          body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
          h1 span { background: #224; color: #fff; padding: 0 .4em; border-radius: .3em; }
          .cols { display: flex; gap: 2em; align-items: flex-start; }
          table { border-collapse: collapse; } td, th { padding: 2px 8px; border-bottom: 1px solid #ddd; text-align: left; }
          tr.changed td { background: #ffe9a8; transition: background 1s; }
          #events { list-style: none; padding: 0; margin: 0; max-width: 46em; }
          #events li { padding: 2px 0; border-bottom: 1px solid #eee; }
          #events .v { display: inline-block; min-width: 4.5em; font-weight: bold; }
          #feed-version { font-weight: bold; }
        </style></head>
        <body>
        <h1>Shop <span id="version">{VERSION}</span></h1>
        """;

    private const string Tail = """
        <section><h2>Live feed</h2>
        <p>status: <span id="feed-status">connecting</span> (opened <span id="feed-opens">0</span> times)
           &middot; events: <span id="feed-count">0</span></p>
        <p>last event from version <span id="feed-version">-</span>, sent by version <span id="feed-sent-by">-</span></p>
        <ul id="events"></ul></section></div>
        <script>
        (function () {
          var list = document.getElementById('events');
          var count = 0, opens = 0;
          var source = new EventSource('/feed');
          source.onopen = function () {
            opens++;
            document.getElementById('feed-opens').textContent = String(opens);
            document.getElementById('feed-status').textContent = 'open';
          };
          source.onerror = function () { document.getElementById('feed-status').textContent = 'reconnecting'; };
          source.addEventListener('shop', function (message) {
            var e = JSON.parse(message.data);
            count++;
            document.getElementById('feed-count').textContent = String(count);
            document.getElementById('feed-version').textContent = e.version;
            document.getElementById('feed-sent-by').textContent = e.sentBy;
            var item = document.createElement('li');
            item.dataset.version = e.version;
            var v = document.createElement('span');
            v.className = 'v';
            v.textContent = e.version;
            item.appendChild(v);
            item.appendChild(document.createTextNode(' #' + e.seq + ' ' + e.text));
            list.insertBefore(item, list.firstChild);
            while (list.children.length > 40) { list.removeChild(list.lastChild); }
            var d = e.data || {};
            var row = d.productId ? document.getElementById('p-' + d.productId) : null;
            if (row) {
              if (d.price !== undefined) { row.querySelector('.price').textContent = d.price; }
              if (d.stock !== undefined) { row.querySelector('.stock').textContent = d.stock; }
              row.className = 'changed';
              setTimeout(function () { row.className = ''; }, 1500);
            }
          });
        })();
        </script>
        </body></html>
        """;
}
