using Shop;

var builder = WebApplication.CreateBuilder(args);
builder.AddMolt();
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning); // No line per request (appsettings.json would say it; the app has no files).
builder.Services.AddSingleton<Feed>();
builder.Services.AddSingleton<Catalog>();
builder.Services.AddHostedService<Simulator>();

var app = builder.Build();

app.MapGet("/", (Catalog catalog) => Results.Content(
    Page.Render("Prices with a currency, stock apart from the product.", catalog.Rows(30), ["Release 1: list and order products.", "Release 2: prices are money (amount and currency); each product's stock is a record of its own."]),
    "text/html; charset=utf-8"));

app.MapGet("/api/version", () => new { version = AppInfo.Version, name = "Shop", runtime = Environment.Version.ToString() });

app.MapGet("/api/products", (Catalog catalog, int? skip, int? take) =>
    catalog.ListProducts(Math.Max(0, skip ?? 0), Math.Clamp(take ?? 50, 1, 500)));

app.MapGet("/api/products/{id:long}", (Catalog catalog, long id) =>
    catalog.FindProduct(id) is { } product ? Results.Ok(product) : Results.NotFound(new { error = $"no product {id}" }));

app.MapPost("/api/orders", (Catalog catalog, OrderRequest request) =>
{
    var (outcome, order) = catalog.PlaceOrder(request.ProductId, request.Quantity, request.Customer ?? "web");
    return outcome switch
    {
        OrderOutcome.Placed => Results.Json(order, statusCode: StatusCodes.Status201Created),
        OrderOutcome.UnknownProduct => Results.NotFound(new { error = $"no product {request.ProductId}" }),
        OrderOutcome.OutOfStock => Results.Conflict(new { error = $"product {request.ProductId} is out of stock" }),
        _ => Results.BadRequest(new { error = "quantity must be between 1 and 1000000" }),
    };
});

app.MapGet("/api/orders", (Catalog catalog, int? skip, int? take) =>
    catalog.ListOrders(Math.Max(0, skip ?? 0), Math.Clamp(take ?? 50, 1, 500)));

app.MapGet("/api/orders/{id:long}", (Catalog catalog, long id) =>
    catalog.FindOrder(id) is { } order ? Results.Ok(order) : Results.NotFound(new { error = $"no order {id}" }));

app.MapGet("/api/stats", (Catalog catalog, Feed feed, IEnumerable<IHostedService> services) =>
    catalog.Stats(feed.LastSequence, services.OfType<Simulator>().Single().Turns));

app.MapGet("/feed", (HttpContext http, Feed feed) =>
    Molt.ConnectionUnit.RunAsync(http, FeedClient.Open(http, feed), FeedClient.NextAsync));

app.Run();
