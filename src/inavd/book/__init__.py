from inavd.book.quote_book import QuoteBook, RejectReason

__all__ = ["QuoteBook", "RejectReason"]
