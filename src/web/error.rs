//! Errors as pages: a friendly message in Chinese with the right status, never a stack of
//! JSON, and never a 500 for a reader's mistake.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::layout::{Frame, render};
use crate::error::{ApiError, ErrorCode};

/// Why a page could not be shown.
#[derive(Debug)]
pub(crate) enum PageError {
    /// The URL asks for something impossible (a bad year, a page past the end): 400.
    BadRequest(String),
    /// No such record or institution: 404.
    NotFound(String),
    /// Our fault; the details are logged: 500.
    Internal,
}

impl PageError {
    /// The error as a page in `frame`.
    pub(crate) fn render(self, frame: &Frame) -> Response {
        let (status, title, message) = match self {
            PageError::BadRequest(message) => (StatusCode::BAD_REQUEST, "搜索条件有误", message),
            PageError::NotFound(message) => (StatusCode::NOT_FOUND, "未找到", message),
            PageError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "出错了",
                "服务器暂时出了问题，请稍后再试。".to_string(),
            ),
        };
        render(
            status,
            &ErrorPage {
                frame,
                title,
                message: &message,
            },
        )
    }
}

/// `templates/error.html`: a notice and the ways back.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    frame: &'a Frame,
    title: &'a str,
    message: &'a str,
}

impl From<ApiError> for PageError {
    fn from(err: ApiError) -> Self {
        match (err.status(), err.code()) {
            (StatusCode::NOT_FOUND, _) => PageError::NotFound("您要找的内容不存在或已删除。".into()),
            (_, ErrorCode::QueryTooLong) => PageError::BadRequest(format!(
                "检索词太长了，请不超过 {} 个字。",
                services::search::MAX_QUERY_CHARS
            )),
            (_, ErrorCode::PageOutOfRange) => PageError::BadRequest(
                "翻页太深了，请增加检索词或筛选条件以缩小范围。".into(),
            ),
            (StatusCode::BAD_REQUEST, _) => PageError::BadRequest(
                "网址中的检索条件无法识别（例如年份不是数字、起始年份晚于结束年份，或分类不存在）。请修改后重试。"
                    .into(),
            ),
            _ => {
                tracing::error!("page failed: {err:?}");
                PageError::Internal
            }
        }
    }
}

impl From<store::StoreError> for PageError {
    fn from(err: store::StoreError) -> Self {
        tracing::error!("page failed reading the store: {err}");
        PageError::Internal
    }
}

impl From<tokio::task::JoinError> for PageError {
    fn from(err: tokio::task::JoinError) -> Self {
        tracing::error!("page task failed: {err}");
        PageError::Internal
    }
}

impl From<indexer::Error> for PageError {
    fn from(err: indexer::Error) -> Self {
        match err {
            indexer::Error::QueryTooLong { .. } => PageError::BadRequest(format!(
                "检索词太长了，请不超过 {} 个字。",
                services::search::MAX_QUERY_CHARS
            )),
            other => {
                tracing::error!("page search failed: {other}");
                PageError::Internal
            }
        }
    }
}
